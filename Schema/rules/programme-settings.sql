-- Programme settings and what the exports read of them. The current definitions.

-- A paid row was recorded when it was paid; a reversal when it was inserted.
CREATE OR REPLACE FUNCTION grants.recorded_paid_at(status text, paid_at timestamptz, scheduled_at timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN status = 'reversal' THEN scheduled_at ELSE paid_at END
$$;

CREATE OR REPLACE FUNCTION grants.stamp_closing() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.closed_at := CASE WHEN NEW.status = 'closed' AND OLD.status <> 'closed' THEN now() ELSE OLD.closed_at END;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION grants.stamp_payment() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.paid_at := CASE WHEN NEW.status = 'paid' AND OLD.status <> 'paid' THEN now() ELSE OLD.paid_at END;
    RETURN NEW;
END
$$;
