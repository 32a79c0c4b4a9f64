use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
-- Pipelines in the order the tenant lists them.
ALTER TABLE pipelines
    ADD COLUMN position   integer NOT NULL DEFAULT 0,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
UPDATE pipelines p SET position = r.n
FROM (SELECT id, row_number() OVER (ORDER BY is_default DESC, created_at, id) AS n FROM pipelines) r
WHERE r.id = p.id;

-- A deal with no change for `rotten_days` is flagged rotten. Positions are checked at commit, so
-- a reorder can pass through states where two stages share one.
ALTER TABLE pipeline_stages
    ADD COLUMN rotten_days integer CHECK (rotten_days > 0),
    ADD COLUMN updated_at  timestamptz NOT NULL DEFAULT now(),
    DROP CONSTRAINT pipeline_stages_position_key,
    ADD CONSTRAINT pipeline_stages_position_key UNIQUE (pipeline_id, position) DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE deals
    ADD COLUMN owner_id            uuid,
    ADD COLUMN expected_close_date date,
    -- The win probability when it differs from the stage's default.
    ADD COLUMN probability         integer CHECK (probability BETWEEN 0 AND 100),
    ADD COLUMN status              text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost')),
    ADD COLUMN lost_reason         text,
    ADD COLUMN closed_at           timestamptz,
    -- Board order within the stage (ascending); a move between two cards takes the middle.
    ADD COLUMN position            double precision NOT NULL DEFAULT 0,
    ADD COLUMN stage_entered_at    timestamptz NOT NULL DEFAULT now(),
    -- Raised by every change; events carry it so consumers can order them and drop stale ones.
    ADD COLUMN version             bigint NOT NULL DEFAULT 1,
    ADD COLUMN created_by          uuid,
    ADD COLUMN updated_by          uuid;
UPDATE deals d SET
    stage_entered_at = d.created_at,
    status = s.kind,
    closed_at = CASE WHEN s.kind <> 'open' THEN d.updated_at END
FROM pipeline_stages s WHERE s.id = d.stage_id;
UPDATE deals d SET position = r.n
FROM (SELECT id, row_number() OVER (PARTITION BY stage_id ORDER BY created_at, id) AS n FROM deals) r
WHERE r.id = d.id;
CREATE INDEX deals_board_idx ON deals (stage_id, position) WHERE deleted_at IS NULL;
CREATE INDEX deals_owner_idx ON deals (owner_id) WHERE owner_id IS NOT NULL;
CREATE INDEX deals_close_date_idx ON deals (expected_close_date);
CREATE INDEX deals_trash_idx ON deals (deleted_at) WHERE deleted_at IS NOT NULL;

ALTER TABLE deal_contacts
    ADD COLUMN role       text,
    ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();

-- Every stage a deal entered, from its creation (`from_stage_id` NULL) on. Stage ids are kept
-- when a stage is deleted, with the names they had, so history reads the same afterwards.
CREATE TABLE deal_stage_changes (
    id              uuid PRIMARY KEY,
    deal_id         uuid NOT NULL REFERENCES deals (id) ON DELETE CASCADE,
    pipeline_id     uuid NOT NULL,
    from_stage_id   uuid,
    from_stage_name text,
    to_stage_id     uuid NOT NULL,
    to_stage_name   text NOT NULL,
    changed_by      uuid,
    changed_at      timestamptz NOT NULL,
    -- When the deal had entered the stage it left: the time spent there ends at `changed_at`.
    from_entered_at timestamptz
);
CREATE INDEX deal_stage_changes_deal_idx ON deal_stage_changes (deal_id, changed_at, id);
CREATE INDEX deal_stage_changes_pipeline_idx ON deal_stage_changes (pipeline_id, changed_at);
INSERT INTO deal_stage_changes (id, deal_id, pipeline_id, to_stage_id, to_stage_name, changed_at)
SELECT gen_random_uuid(), d.id, d.pipeline_id, d.stage_id, s.name, d.created_at
FROM deals d JOIN pipeline_stages s ON s.id = d.stage_id;
"#;

const DOWN: &str = r#"
DROP TABLE deal_stage_changes;
ALTER TABLE deal_contacts DROP COLUMN role, DROP COLUMN created_at;
DROP INDEX deals_board_idx;
DROP INDEX deals_owner_idx;
DROP INDEX deals_close_date_idx;
DROP INDEX deals_trash_idx;
ALTER TABLE deals DROP COLUMN owner_id, DROP COLUMN expected_close_date, DROP COLUMN probability,
    DROP COLUMN status, DROP COLUMN lost_reason, DROP COLUMN closed_at, DROP COLUMN position,
    DROP COLUMN stage_entered_at, DROP COLUMN version, DROP COLUMN created_by, DROP COLUMN updated_by;
ALTER TABLE pipeline_stages DROP COLUMN rotten_days, DROP COLUMN updated_at,
    DROP CONSTRAINT pipeline_stages_position_key,
    ADD CONSTRAINT pipeline_stages_position_key UNIQUE (pipeline_id, position);
ALTER TABLE pipelines DROP COLUMN position, DROP COLUMN updated_at;
"#;

sql_migration!(UP, DOWN);
