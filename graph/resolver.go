// Package graph is the GraphQL adapter: gqlgen's generated executor, thin
// resolvers that translate GraphQL to store calls, per-request dataloaders
// for every edge, and the error presenter.
package graph

import (
	"log/slog"

	"healthcare/audit"
	"healthcare/auth"
	"healthcare/database"
)

// Resolver is the dependency root of the resolvers.
type Resolver struct {
	Store *database.Store
	Auth  *auth.Service
	Audit *audit.Trail
	Log   *slog.Logger
}
