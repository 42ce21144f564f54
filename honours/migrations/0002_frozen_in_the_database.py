"""An issued decision is frozen in the database too (PostgreSQL): whatever path reaches it (a
queryset's update, raw SQL, a cascade), its row and its entries' rows are neither changed nor
deleted. An entry may only lose its link to a unit or a cluster deleted since (SET NULL): its code
and names stay. A decision is issued by an UPDATE of its draft row, which these allow.

SQLite (the demo) keeps the guarantee of the models and services only: its `flush` deletes rows one
by one, which a trigger would refuse."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION honours_refuse_issued_decision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'issued' THEN
        RAISE EXCEPTION 'honours decision % is issued: it is never changed or deleted', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER honours_decision_frozen BEFORE UPDATE OR DELETE ON honours_honourdecision
    FOR EACH ROW EXECUTE FUNCTION honours_refuse_issued_decision();

CREATE FUNCTION honours_refuse_issued_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM honours_honourdecision d WHERE d.id = OLD.decision_id AND d.status = 'issued') THEN
        IF TG_OP = 'UPDATE'
           AND (NEW.unit_id IS NULL OR NEW.unit_id IS NOT DISTINCT FROM OLD.unit_id)
           AND (NEW.cluster_id IS NULL OR NEW.cluster_id IS NOT DISTINCT FROM OLD.cluster_id)
           AND (NEW.decision_id, NEW.position, NEW.level, NEW.cluster_name, NEW.unit_code, NEW.unit_name,
                NEW.count, NEW.target, NEW.meets, NEW.excluded, NEW.reason)
               IS NOT DISTINCT FROM
               (OLD.decision_id, OLD.position, OLD.level, OLD.cluster_name, OLD.unit_code, OLD.unit_name,
                OLD.count, OLD.target, OLD.meets, OLD.excluded, OLD.reason) THEN
            RETURN NEW;  -- a unit or cluster deleted since: the link goes, the names stay
        END IF;
        RAISE EXCEPTION 'honours decision % is issued: its entries are never changed or deleted', OLD.decision_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER honours_entry_frozen BEFORE UPDATE OR DELETE ON honours_honourentry
    FOR EACH ROW EXECUTE FUNCTION honours_refuse_issued_entry();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS honours_entry_frozen ON honours_honourentry;
DROP FUNCTION IF EXISTS honours_refuse_issued_entry();
DROP TRIGGER IF EXISTS honours_decision_frozen ON honours_honourdecision;
DROP FUNCTION IF EXISTS honours_refuse_issued_decision();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)  # its "%" are plpgsql's, not parameters


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("honours", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
