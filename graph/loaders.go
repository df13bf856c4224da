package graph

import (
	"context"
	"time"

	"github.com/vikstrous/dataloadgen"

	"healthcare/database"
	"healthcare/models"
)

// edgeKey identifies a to-many edge of one record, with the edge's status
// argument ("" for any status).
type edgeKey struct {
	ID     int64
	Status models.MappingStatus
}

func (k edgeKey) status() *models.MappingStatus {
	if k.Status == "" {
		return nil
	}
	s := k.Status
	return &s
}

// Loaders batch every edge of one request into one query per edge (and
// status). They are built per request with the viewer captured, because a
// batch runs with the context of whichever Load came first.
type Loaders struct {
	PatientByID       *dataloadgen.Loader[int64, *models.Patient]
	DoctorByID        *dataloadgen.Loader[int64, *models.Doctor]
	MappingsByPatient *dataloadgen.Loader[edgeKey, []*models.Mapping]
	PatientsByDoctor  *dataloadgen.Loader[edgeKey, []*models.Patient]
}

// newLoaders returns loaders that read through the viewer-scoped store
// methods, so a nested edge never shows a record its list would hide.
func newLoaders(s *database.Store, viewer func() models.Viewer) *Loaders {
	opts := []dataloadgen.Option{dataloadgen.WithWait(time.Millisecond), dataloadgen.WithBatchCapacity(500)}
	return &Loaders{
		PatientByID: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]*models.Patient, error) {
			return s.Patients.ByIDs(ctx, viewer(), ids)
		}, opts...),
		DoctorByID: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]*models.Doctor, error) {
			return s.Doctors.ByIDs(ctx, viewer(), ids)
		}, opts...),
		MappingsByPatient: dataloadgen.NewMappedLoader(func(ctx context.Context, keys []edgeKey) (map[edgeKey][]*models.Mapping, error) {
			return byStatus(ctx, keys, func(ctx context.Context, ids []int64, st *models.MappingStatus) (map[int64][]*models.Mapping, error) {
				return s.Mappings.ByPatientIDs(ctx, viewer(), ids, st)
			})
		}, opts...),
		PatientsByDoctor: dataloadgen.NewMappedLoader(func(ctx context.Context, keys []edgeKey) (map[edgeKey][]*models.Patient, error) {
			return byStatus(ctx, keys, func(ctx context.Context, ids []int64, st *models.MappingStatus) (map[int64][]*models.Patient, error) {
				return s.Patients.ByDoctorIDs(ctx, viewer(), ids, st)
			})
		}, opts...),
	}
}

// byStatus runs fetch once per distinct status among keys and gives every
// key a list, empty when nothing matched.
func byStatus[V any](ctx context.Context, keys []edgeKey,
	fetch func(context.Context, []int64, *models.MappingStatus) (map[int64][]V, error)) (map[edgeKey][]V, error) {
	groups := map[models.MappingStatus][]int64{}
	for _, k := range keys {
		groups[k.Status] = append(groups[k.Status], k.ID)
	}
	out := make(map[edgeKey][]V, len(keys))
	for st, ids := range groups {
		got, err := fetch(ctx, ids, edgeKey{Status: st}.status())
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			vs := got[id]
			if vs == nil {
				vs = []V{}
			}
			out[edgeKey{ID: id, Status: st}] = vs
		}
	}
	return out, nil
}

type loadersKey struct{}

func withLoaders(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, loadersKey{}, l)
}

func loaders(ctx context.Context) *Loaders {
	return ctx.Value(loadersKey{}).(*Loaders)
}
