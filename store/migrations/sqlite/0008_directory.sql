-- Migration 8: directory: departments, people, syncs, changes and conflicts from the platforms' directories.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `directory_changes` (`id` integer PRIMARY KEY AUTOINCREMENT,`sync_id` integer NOT NULL,`platform` text NOT NULL,`kind` text NOT NULL,`subject` text NOT NULL,`employee_id` integer NOT NULL DEFAULT 0,`detail` text,`created_at` datetime NOT NULL);

CREATE TABLE `directory_conflicts` (`id` integer PRIMARY KEY AUTOINCREMENT,`platform` text NOT NULL,`user_id` text NOT NULL,`name` text NOT NULL,`rule` text NOT NULL,`candidates` text NOT NULL,`status` text NOT NULL,`resolved_employee_id` integer NOT NULL DEFAULT 0,`resolved_by` text,`resolved_at` datetime,`created_at` datetime,`updated_at` datetime);

CREATE TABLE `directory_departments` (`id` integer PRIMARY KEY AUTOINCREMENT,`platform` text NOT NULL,`dept_id` text NOT NULL,`parent_id` text NOT NULL,`name` text NOT NULL,`path` text NOT NULL,`active` numeric NOT NULL DEFAULT true,`synced_at` datetime NOT NULL,`created_at` datetime,`updated_at` datetime);

CREATE TABLE `directory_people` (`id` integer PRIMARY KEY AUTOINCREMENT,`platform` text NOT NULL,`user_id` text NOT NULL,`employee_id` integer NOT NULL DEFAULT 0,`employee_no` text,`name` text NOT NULL,`title` text,`city` text,`mobile` text,`email` text,`dept_id` text,`dept_ids` text,`manager_id` text,`active` numeric NOT NULL DEFAULT true,`hash` text NOT NULL,`synced_at` datetime NOT NULL,`created_at` datetime,`updated_at` datetime);

CREATE TABLE `directory_syncs` (`id` integer PRIMARY KEY AUTOINCREMENT,`platform` text NOT NULL,`started_at` datetime NOT NULL,`finished_at` datetime,`status` text NOT NULL,`trigger` text NOT NULL,`dry_run` numeric NOT NULL DEFAULT false,`departments` integer NOT NULL DEFAULT 0,`people` integer NOT NULL DEFAULT 0,`created` integer NOT NULL DEFAULT 0,`linked` integer NOT NULL DEFAULT 0,`updated` integer NOT NULL DEFAULT 0,`deactivated` integer NOT NULL DEFAULT 0,`conflicts` integer NOT NULL DEFAULT 0,`failures` integer NOT NULL DEFAULT 0,`error` text);

CREATE INDEX `idx_directory_changes_employee_id` ON `directory_changes`(`employee_id`);

CREATE INDEX `idx_directory_changes_sync_id` ON `directory_changes`(`sync_id`);

CREATE INDEX `idx_directory_conflicts_status` ON `directory_conflicts`(`status`);

CREATE INDEX `idx_directory_departments_parent_id` ON `directory_departments`(`parent_id`);

CREATE INDEX `idx_directory_people_dept_id` ON `directory_people`(`dept_id`);

CREATE INDEX `idx_directory_people_email` ON `directory_people`(`email`);

CREATE INDEX `idx_directory_people_employee_id` ON `directory_people`(`employee_id`);

CREATE INDEX `idx_directory_people_employee_no` ON `directory_people`(`employee_no`);

CREATE INDEX `idx_directory_people_mobile` ON `directory_people`(`mobile`);

CREATE INDEX `ix_dir_sync` ON `directory_syncs`(`platform`,`started_at`);

CREATE UNIQUE INDEX `ux_dir_conflict` ON `directory_conflicts`(`platform`,`user_id`);

CREATE UNIQUE INDEX `ux_dir_dept` ON `directory_departments`(`platform`,`dept_id`);

CREATE UNIQUE INDEX `ux_dir_person` ON `directory_people`(`platform`,`user_id`);
