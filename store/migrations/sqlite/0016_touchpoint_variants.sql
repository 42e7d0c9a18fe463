-- Migration 16: touchpoint variants: a class touchpoint's A/B variants (copy, button, send time) and each person's recorded assignment.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `touchpoint_variants` (`id` integer PRIMARY KEY AUTOINCREMENT,`touchpoint_id` integer NOT NULL,`name` text NOT NULL,`weight` integer NOT NULL DEFAULT 1,`title` text,`body` text,`button` text,`timing` text NOT NULL DEFAULT "same",`offset` integer,`best_from` integer,`best_to` integer,`run_at` datetime,`send_basis` text,`created_at` datetime);

CREATE TABLE `touchpoint_assignments` (`touchpoint_id` integer,`employee_id` integer,`variant_id` integer NOT NULL,`assigned_at` datetime NOT NULL,PRIMARY KEY (`touchpoint_id`,`employee_id`));

CREATE UNIQUE INDEX `ux_touchpoint_variant` ON `touchpoint_variants`(`touchpoint_id`,`name`);

CREATE INDEX `idx_touchpoint_assignments_variant_id` ON `touchpoint_assignments`(`variant_id`);

ALTER TABLE `touchpoints` ADD COLUMN `variants` integer NOT NULL DEFAULT 0;
