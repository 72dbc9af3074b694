-- The write path's helpers in PL/pgSQL, whose statements' plans a backend keeps for the session (also through
-- pgbouncer in transaction mode, where prepared statements are not an option): as SQL functions they were
-- planned on every call, and login_actor() alone, called by the actor triggers of every insert, cost more to
-- plan than the insert cost to run. Same bodies, same results as 0009's.

CREATE OR REPLACE FUNCTION grants.login_actor() RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN CASE
        WHEN EXISTS (
            SELECT 1 FROM pg_catalog.pg_roles r JOIN pg_catalog.pg_namespace n ON n.nspname = 'grants'
             WHERE r.rolname = session_user
               AND (r.rolsuper
                    OR pg_catalog.pg_has_role(r.oid, n.nspowner, 'MEMBER')
                    OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles s
                                WHERE s.rolname = 'grants_service' AND pg_catalog.pg_has_role(r.oid, s.oid, 'MEMBER'))))
        THEN NULL
        ELSE grants.actor_name(session_user)
    END;
END
$$;

-- The library's check ahead of a write, for one application: PL/pgSQL, so its plan is kept. The triggers
-- keep calling the SQL function declared_conflict, which their set-based statements inline.
CREATE FUNCTION grants.conflict_for(actor text, application bigint)
RETURNS TABLE (person text, organisation text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY SELECT c.person, c.organisation FROM grants.declared_conflict(actor, application) c;
END
$$;
