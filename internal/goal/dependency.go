package goal

import (
	"cmp"
	"context"
	"slices"

	"github.com/gathering/gathering/internal/store"
)

// AddDependency records that goal goalID depends on goal dependsOnID, with
// typ (blocks when empty), and announces goal.dependency_added on goalID.
// ENOTFOUND when goalID does not exist; EINVALID (with field errors) for
// an unknown type, a dependsOnID that names no goal or goalID itself, or a
// goal that depends on store.MaxGoalDependencies goals already; ECONFLICT
// when the dependency exists or would close a cycle.
func (s *Service) AddDependency(ctx context.Context, actor Actor, goalID, dependsOnID int64,
	typ store.GoalDependencyType) (store.GoalDependency, error) {
	typ = cmp.Or(typ, store.GoalBlocks)
	var c checker
	if !slices.Contains(store.GoalDependencyTypes, typ) {
		c.add("dependency_type", "must be blocks, informs or enhances")
	}
	if dependsOnID <= 0 {
		c.add("depends_on_id", "must be a goal's id")
	}
	if err := c.err(); err != nil {
		return store.GoalDependency{}, err
	}
	g, err := s.db.GoalGet(ctx, goalID)
	if err != nil {
		return store.GoalDependency{}, err
	}
	if _, err := s.db.GoalGet(ctx, dependsOnID); err != nil {
		return store.GoalDependency{}, missingAs(err, "depends_on_id", "no such goal")
	}
	d, err := s.db.GoalDependencyAdd(ctx, store.GoalDependency{GoalID: goalID, DependsOnID: dependsOnID, Type: typ,
		CreatedAt: now()})
	if err != nil {
		return store.GoalDependency{}, err
	}
	s.publishDependency(ctx, actor, "dependency_added", g, d)
	return d, nil
}

// RemoveDependency deletes the dependency of goal goalID on goal
// dependsOnID and announces goal.dependency_removed on goalID. ENOTFOUND
// when either the goal or the dependency does not exist.
func (s *Service) RemoveDependency(ctx context.Context, actor Actor, goalID, dependsOnID int64) error {
	g, err := s.db.GoalGet(ctx, goalID)
	if err != nil {
		return err
	}
	if err := s.db.GoalDependencyRemove(ctx, goalID, dependsOnID); err != nil {
		return err
	}
	s.publishDependency(ctx, actor, "dependency_removed", g, store.GoalDependency{DependsOnID: dependsOnID})
	return nil
}

// Dependencies returns the dependencies of goal id, by the id of the goal
// depended on; ENOTFOUND.
func (s *Service) Dependencies(ctx context.Context, id int64) ([]store.GoalDependency, error) {
	if _, err := s.db.GoalGet(ctx, id); err != nil {
		return nil, err
	}
	return s.db.GoalDependencies(ctx, id)
}

// publishDependency announces goal.<typ> about a dependency of g.
func (s *Service) publishDependency(ctx context.Context, actor Actor, typ string, g store.Goal, d store.GoalDependency) {
	data := eventOf(g)
	data.DependsOnID, data.DependencyType = d.DependsOnID, string(d.Type)
	s.publish(ctx, actor, typ, g, data)
}
