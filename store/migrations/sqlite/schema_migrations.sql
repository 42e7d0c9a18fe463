-- The runner's bookkeeping table: one row per applied version.

CREATE TABLE IF NOT EXISTS `schema_migrations` (`version` integer,`name` text NOT NULL,`applied_at` datetime,PRIMARY KEY (`version`));
