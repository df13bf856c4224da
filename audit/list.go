package audit

import (
	"context"
	"database/sql"
	"errors"

	"github.com/uptrace/bun"

	"healthcare/database"
	"healthcare/models"
)

// withLinks selects an event's columns with its link in the chain (seq,
// hash and the previous link's hash), NULL until it is sealed.
func withLinks(q *bun.SelectQuery) *bun.SelectQuery {
	return q.ColumnExpr(eventColumns).ColumnExpr("ac.seq, ac.hash").
		ColumnExpr("CASE WHEN ac.seq IS NOT NULL THEN coalesce((SELECT acp.hash FROM audit_chain AS acp WHERE acp.event_id < ae.id ORDER BY acp.event_id DESC LIMIT 1), ?) END AS prev_hash", genesisHash).
		Join("LEFT JOIN audit_chain AS ac ON ac.event_id = ae.id")
}

// Get returns the audit event id with its link in the chain; only
// superusers may read it (Forbidden for anyone else), NotFound if there is
// none.
func (a *Trail) Get(ctx context.Context, v models.Viewer, id int64) (*models.AuditEvent, error) {
	if err := v.RequireSuperuser(models.ReadAuditTrail); err != nil {
		return nil, err
	}
	e := new(models.AuditEvent)
	err := withLinks(a.db.NewSelect().Model(e)).Where("ae.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, models.NotFound("Audit event")
	}
	if err != nil {
		return nil, database.Translate(err)
	}
	return e, nil
}

// List returns one page of the audit events matching f, newest first, each
// with its hash once sealed. Only superusers may read the trail: anyone
// else is Forbidden.
func (a *Trail) List(ctx context.Context, v models.Viewer, f models.AuditFilter, pr models.PageRequest) (*models.Page[*models.AuditEvent], error) {
	if err := v.RequireSuperuser(models.ReadAuditTrail); err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	pg := database.IsPostgres(a.db)
	// Filtered by account, the list reads audit_events_user_idx
	// (user_id, id) in order, however many newer events others have.
	lead := ""
	if f.UserID != nil {
		lead = "ae.user_id"
	}
	return database.Paged[*models.AuditEvent](ctx, a.db, pr, "ae.id", lead, withLinks, func(q *bun.SelectQuery, a *database.Args) *bun.SelectQuery {
		if f.UserID != nil {
			q = q.ApplyQueryBuilder(func(qb bun.QueryBuilder) bun.QueryBuilder {
				return database.OwnerRange(qb, bun.Ident("ae.user_id"), *f.UserID, a)
			})
		}
		switch {
		case f.RecordID != nil:
			typ := f.RecordType
			if typ == "" {
				typ = models.AuditPatient
			}
			q = q.Where("("+recordMatch(pg)+")", a.Of(typ), a.Of(*f.RecordID), a.Of(typ), a.Of(*f.RecordID))
		case f.RecordType != "":
			q = q.Where("("+typeMatch(pg)+")", a.Of(f.RecordType), a.Of(f.RecordType))
		}
		if f.Action != nil {
			q = q.Where("ae.action = ?", a.Of(string(*f.Action)))
			if *f.Action != models.AuditRead {
				// Implied, but said so that both planners see the partial
				// index audit_events_action_idx applies.
				q = q.Where("ae.action <> ?", string(models.AuditRead))
			}
		}
		if f.Since != nil {
			q = q.Where("ae.occurred_at >= ?", a.Of(f.Since.UTC()))
		}
		if f.Until != nil {
			q = q.Where("ae.occurred_at < ?", a.Of(f.Until.UTC()))
		}
		return q
	})
}

// recordMatch selects the events that name record (type, id): an event
// about one record by its record_type and record_id (a B-tree index), one
// about several (record_id NULL) by its records (a GIN index on PostgreSQL
// that holds only those; a scan of the JSON on SQLite). Arguments: type,
// id, type, id.
func recordMatch(pg bool) string {
	if pg {
		return `(ae.record_type = ? AND ae.record_id = ?) OR (ae.record_id IS NULL AND ae.records <> '' AND ae.records::jsonb @> jsonb_build_object(?::text, jsonb_build_array(?::bigint)))`
	}
	return `(ae.record_type = ? AND ae.record_id = ?) OR (ae.record_id IS NULL AND ae.records <> '' AND EXISTS (SELECT 1 FROM json_each(ae.records, '$.' || ?) AS r WHERE r.value = ?))`
}

// typeMatch selects the events that name a record of a type. Arguments:
// type, type.
func typeMatch(pg bool) string {
	if pg {
		return `ae.record_type = ? OR (ae.record_id IS NULL AND ae.records <> '' AND ae.records::jsonb \? ?)`
	}
	return `ae.record_type = ? OR (ae.record_id IS NULL AND ae.records <> '' AND json_type(ae.records, '$.' || ?) IS NOT NULL)`
}

// Existing returns which of the ids of records of type typ (patient or
// mapping) still exist, for linking events to their records. Superusers
// only, like the trail itself; it reads no record data, so it records no
// read event.
func (a *Trail) Existing(ctx context.Context, v models.Viewer, typ string, ids []int64) (map[int64]bool, error) {
	if err := v.RequireSuperuser(models.ReadAuditTrail); err != nil {
		return nil, err
	}
	table := map[string]string{models.AuditPatient: "patients", models.AuditMapping: "mappings"}[typ]
	out := make(map[int64]bool, len(ids))
	if table == "" || len(ids) == 0 {
		return out, nil
	}
	var found []int64
	if err := a.db.NewSelect().Table(table).Column("id").Where("id IN (?)", bun.In(ids)).Scan(ctx, &found); err != nil {
		return nil, database.Translate(err)
	}
	for _, id := range found {
		out[id] = true
	}
	return out, nil
}
