-- Most events have no tenant; indexing only those that do spares every
-- other publish one b-tree insert. ListEvents repeats the condition so that
-- the planner can use the partial index.
DROP INDEX events_tenant;
CREATE INDEX events_tenant ON events (tenant, id) WHERE tenant <> '';
