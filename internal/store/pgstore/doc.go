// Package pgstore implements the store interfaces on PostgreSQL through
// pgx/v5 (pgxpool), the only PostgreSQL driver in the module.
//
// Several GatheRing instances may share one database: Migrate serializes
// itself with a session advisory lock keyed on the current schema, so
// instances (and parallel tests on different schemas) never apply a
// migration twice. The schema is chosen with the URL's search_path runtime
// parameter.
//
// Every error leaving this package is a *gathering.Error: callers never see a
// pgx type, only the cause wrapped inside it.
package pgstore
