package database

import "context"

// ArgsOf returns the values of the statement whose context is ctx (Args.Ctx),
// once Bun has rendered it (a query hook's AfterQuery); nil if it has none.
func ArgsOf(ctx context.Context) []any {
	if a, ok := ctx.Value(argsKey{}).(*Args); ok {
		return a.vals
	}
	return nil
}
