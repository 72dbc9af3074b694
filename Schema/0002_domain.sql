-- Domain tables. Amounts are bigint minor units (öre) with an ISO 4217 currency beside them; running
-- totals on parent rows carry the money rules as CHECK constraints (see 0003_rules.sql for what keeps
-- them up to date).

CREATE FUNCTION grants.luhn_valid(digits text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT digits ~ '^[0-9]+$' AND (
        SELECT sum(CASE WHEN d > 9 THEN d - 9 ELSE d END) % 10 = 0
        FROM (
            SELECT substr(digits, i, 1)::int * CASE WHEN (length(digits) - i) % 2 = 1 THEN 2 ELSE 1 END AS d
            FROM generate_series(1, length(digits)) AS i
        ) AS weighted
    )
$$;

-- organisationsnummer: NNNNNN-NNNN, Luhn check digit over the first nine, digits 3-4 at least 20.
CREATE FUNCTION grants.org_number_valid(value text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT value ~ '^[0-9]{6}-[0-9]{4}$'
       AND substr(value, 3, 2)::int >= 20
       AND grants.luhn_valid(replace(value, '-', ''))
$$;

CREATE TABLE grants.programme (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 1000),
    currency    text NOT NULL DEFAULT 'SEK' CHECK (currency ~ '^[A-Z]{3}$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE grants.allocation_round (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    programme_id   bigint NOT NULL REFERENCES grants.programme,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 1000),
    budget         bigint NOT NULL CHECK (budget > 0),
    currency       text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    opens_on       date,
    closes_on      date,
    decided_on     date,
    status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    -- Σ awarded amounts (after amendments) of the round's grants; kept by triggers.
    awarded_total  bigint NOT NULL DEFAULT 0 CHECK (awarded_total >= 0),
    created_at     timestamptz NOT NULL DEFAULT now(),
    closed_at      timestamptz,
    UNIQUE (programme_id, name),
    UNIQUE (id, programme_id),
    CONSTRAINT round_window CHECK (closes_on IS NULL OR opens_on IS NULL OR closes_on >= opens_on),
    CONSTRAINT round_within_budget CHECK (awarded_total <= budget)
);

CREATE TABLE grants.organisation (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 1000),
    country           text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    org_number        text UNIQUE CHECK (grants.org_number_valid(org_number)),
    municipality_code text CHECK (municipality_code ~ '^[0-9]{2}([0-9]{2})?$'),
    kind              text NOT NULL DEFAULT 'other' CHECK (kind IN ('municipality', 'region', 'other')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT swedish_org_number CHECK (org_number IS NULL OR country = 'SE')
);
-- Organisations are matched by name and country without regard to case, so that pair is unique.
CREATE UNIQUE INDEX organisation_name_country ON grants.organisation (lower(name), country);

CREATE TABLE grants.theme (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    name_sv     text NOT NULL CHECK (length(name_sv) BETWEEN 1 AND 1000),
    name_en     text NOT NULL CHECK (length(name_en) BETWEEN 1 AND 1000),
    dac_sector  text CHECK (dac_sector ~ '^[0-9]{5}$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE grants.application (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    programme_id  bigint NOT NULL,
    round_id      bigint NOT NULL,
    reference     text NOT NULL CHECK (length(reference) BETWEEN 1 AND 200),
    title         text CHECK (length(title) <= 1000),
    applicant_id  bigint NOT NULL REFERENCES grants.organisation,
    phase         text NOT NULL DEFAULT 'project' CHECK (phase IN ('inception', 'project')),
    requested     bigint NOT NULL CHECK (requested > 0),
    currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    starts_on     date NOT NULL,
    ends_on       date NOT NULL,
    status        text NOT NULL DEFAULT 'submitted'
                  CHECK (status IN ('submitted', 'approved', 'rejected', 'withdrawn')),
    submitted_by  text NOT NULL,
    submitted_at  timestamptz NOT NULL DEFAULT now(),
    -- A reference is unique within the programme: it is the grant's idempotency key.
    UNIQUE (programme_id, reference),
    FOREIGN KEY (round_id, programme_id) REFERENCES grants.allocation_round (id, programme_id),
    CONSTRAINT application_period CHECK (ends_on >= starts_on)
);
CREATE INDEX application_round ON grants.application (round_id);

CREATE TABLE grants.application_partner (
    application_id   bigint NOT NULL REFERENCES grants.application,
    organisation_id  bigint NOT NULL REFERENCES grants.organisation,
    position         int NOT NULL,
    role             text NOT NULL DEFAULT 'partner' CHECK (role IN ('partner', 'co-applicant')),
    PRIMARY KEY (application_id, organisation_id)
);

CREATE TABLE grants.application_theme (
    application_id  bigint NOT NULL REFERENCES grants.application,
    theme_code      text NOT NULL REFERENCES grants.theme,
    position        int NOT NULL,
    PRIMARY KEY (application_id, theme_code)
);

CREATE TABLE grants.approval (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id  bigint NOT NULL UNIQUE REFERENCES grants.application,
    decision        text NOT NULL CHECK (decision IN ('approved', 'rejected')),
    awarded         bigint,
    decided_on      date NOT NULL,
    decision_ref    text CHECK (length(decision_ref) <= 1000),
    decided_by      text NOT NULL,
    reason          text CHECK (length(reason) <= 1000),
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT approval_amount CHECK (
        (decision = 'approved' AND awarded > 0) OR (decision = 'rejected' AND awarded IS NULL))
);

CREATE TABLE grants.grant (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id   bigint NOT NULL UNIQUE REFERENCES grants.application,
    programme_id     bigint NOT NULL,
    round_id         bigint NOT NULL,
    reference        text NOT NULL,
    original_amount  bigint NOT NULL CHECK (original_amount > 0),
    -- The award after amendments; kept by the amendment trigger.
    amount           bigint NOT NULL CHECK (amount >= 0),
    currency         text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    starts_on        date NOT NULL,
    original_ends_on date NOT NULL,
    ends_on          date NOT NULL,
    status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed')),
    -- Σ non-cancelled disbursements (reversals count negative) and Σ paid net of reversals; kept by triggers.
    committed_total  bigint NOT NULL DEFAULT 0,
    paid_total       bigint NOT NULL DEFAULT 0,
    reclaimed        bigint CHECK (reclaimed >= 0),
    closed_on        date,
    closed_by        text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (programme_id, reference),
    FOREIGN KEY (round_id, programme_id) REFERENCES grants.allocation_round (id, programme_id),
    CONSTRAINT grant_period CHECK (ends_on >= starts_on),
    CONSTRAINT disbursements_within_award CHECK (committed_total >= 0 AND committed_total <= amount),
    CONSTRAINT paid_within_committed CHECK (paid_total >= 0 AND paid_total <= committed_total),
    CONSTRAINT closure_complete CHECK ((status = 'closed') = (closed_on IS NOT NULL AND reclaimed IS NOT NULL))
);
CREATE INDEX grant_round ON grants.grant (round_id);

CREATE TABLE grants.grant_amendment (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    grant_id       bigint NOT NULL REFERENCES grants.grant,
    amount_change  bigint NOT NULL DEFAULT 0,
    new_ends_on    date,
    reason         text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    amended_by     text NOT NULL,
    amended_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT amendment_changes_something CHECK (amount_change <> 0 OR new_ends_on IS NOT NULL)
);
CREATE INDEX grant_amendment_grant ON grants.grant_amendment (grant_id);

CREATE TABLE grants.disbursement (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    grant_id           bigint NOT NULL REFERENCES grants.grant,
    amount             bigint NOT NULL,
    currency           text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    due_on             date NOT NULL,
    status             text NOT NULL DEFAULT 'scheduled'
                       CHECK (status IN ('scheduled', 'attested', 'paid', 'cancelled', 'reversal')),
    -- The tranche number when the disbursement came from a recorded round's plan.
    tranche            int,
    reverses_id        bigint UNIQUE REFERENCES grants.disbursement,
    scheduled_by       text NOT NULL,
    scheduled_at       timestamptz NOT NULL DEFAULT now(),
    attested_by        text,
    attested_at        timestamptz,
    paid_on            date,
    payment_reference  text CHECK (length(payment_reference) <= 1000),
    paid_by            text,
    cancelled_by       text,
    cancelled_at       timestamptz,
    reason             text CHECK (length(reason) <= 1000),
    UNIQUE (grant_id, tranche),
    CONSTRAINT reversal_points_at_original CHECK ((status = 'reversal') = (reverses_id IS NOT NULL)),
    CONSTRAINT amount_sign CHECK (CASE WHEN status = 'reversal' THEN amount < 0 ELSE amount > 0 END),
    -- Four-eyes: whoever attests is not whoever scheduled.
    CONSTRAINT four_eyes CHECK (attested_by IS NULL OR attested_by <> scheduled_by),
    CONSTRAINT paid_has_payment CHECK (
        status NOT IN ('paid', 'reversal') OR (paid_on IS NOT NULL AND payment_reference IS NOT NULL)),
    CONSTRAINT paid_was_attested CHECK (status <> 'paid' OR attested_by IS NOT NULL)
);
CREATE INDEX disbursement_grant ON grants.disbursement (grant_id);
CREATE INDEX disbursement_due ON grants.disbursement (due_on, id);

-- Keys of client-retried writes, stored in the same transaction as the write they guard.
CREATE TABLE grants.idempotency_key (
    key          text PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 300),
    operation    text NOT NULL,
    request      text NOT NULL,
    result       text NOT NULL,
    actor        text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE grants.audit_event (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    actor        text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
    action       text NOT NULL,
    entity_kind  text NOT NULL,
    entity_key   text NOT NULL,
    details      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_event_occurred ON grants.audit_event (occurred_at, id);
CREATE INDEX audit_event_entity ON grants.audit_event (entity_kind, entity_key);
