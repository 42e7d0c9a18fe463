-- Migration 8: directory: departments, people, syncs, changes and conflicts from the platforms' directories.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `directory_changes` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `sync_id` bigint(20) unsigned NOT NULL,
  `platform` varchar(16) NOT NULL,
  `kind` varchar(16) NOT NULL,
  `subject` varchar(128) NOT NULL,
  `employee_id` bigint(20) unsigned NOT NULL DEFAULT 0,
  `detail` varchar(1024) DEFAULT NULL,
  `created_at` datetime(3) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `idx_directory_changes_sync_id` (`sync_id`),
  KEY `idx_directory_changes_employee_id` (`employee_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `directory_conflicts` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `platform` varchar(16) NOT NULL,
  `user_id` varchar(128) NOT NULL,
  `name` varchar(128) NOT NULL,
  `rule` varchar(16) NOT NULL,
  `candidates` varchar(1024) NOT NULL,
  `status` varchar(16) NOT NULL,
  `resolved_employee_id` bigint(20) unsigned NOT NULL DEFAULT 0,
  `resolved_by` varchar(128) DEFAULT NULL,
  `resolved_at` datetime(3) DEFAULT NULL,
  `created_at` datetime(3) DEFAULT NULL,
  `updated_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ux_dir_conflict` (`platform`,`user_id`),
  KEY `idx_directory_conflicts_status` (`status`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `directory_departments` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `platform` varchar(16) NOT NULL,
  `dept_id` varchar(64) NOT NULL,
  `parent_id` varchar(64) NOT NULL,
  `name` varchar(128) NOT NULL,
  `path` varchar(1024) NOT NULL,
  `active` tinyint(1) NOT NULL DEFAULT 1,
  `synced_at` datetime(3) NOT NULL,
  `created_at` datetime(3) DEFAULT NULL,
  `updated_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ux_dir_dept` (`platform`,`dept_id`),
  KEY `idx_directory_departments_parent_id` (`parent_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `directory_people` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `platform` varchar(16) NOT NULL,
  `user_id` varchar(128) NOT NULL,
  `employee_id` bigint(20) unsigned NOT NULL DEFAULT 0,
  `employee_no` varchar(64) DEFAULT NULL,
  `name` varchar(128) NOT NULL,
  `title` varchar(128) DEFAULT NULL,
  `city` varchar(64) DEFAULT NULL,
  `mobile` varchar(32) DEFAULT NULL,
  `email` varchar(191) DEFAULT NULL,
  `dept_id` varchar(64) DEFAULT NULL,
  `dept_ids` varchar(1024) DEFAULT NULL,
  `manager_id` varchar(128) DEFAULT NULL,
  `active` tinyint(1) NOT NULL DEFAULT 1,
  `hash` varchar(64) NOT NULL,
  `synced_at` datetime(3) NOT NULL,
  `created_at` datetime(3) DEFAULT NULL,
  `updated_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ux_dir_person` (`platform`,`user_id`),
  KEY `idx_directory_people_employee_id` (`employee_id`),
  KEY `idx_directory_people_employee_no` (`employee_no`),
  KEY `idx_directory_people_mobile` (`mobile`),
  KEY `idx_directory_people_email` (`email`),
  KEY `idx_directory_people_dept_id` (`dept_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `directory_syncs` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `platform` varchar(16) NOT NULL,
  `started_at` datetime(3) NOT NULL,
  `finished_at` datetime(3) DEFAULT NULL,
  `status` varchar(16) NOT NULL,
  `trigger` varchar(32) NOT NULL,
  `dry_run` tinyint(1) NOT NULL DEFAULT 0,
  `departments` bigint(20) NOT NULL DEFAULT 0,
  `people` bigint(20) NOT NULL DEFAULT 0,
  `created` bigint(20) NOT NULL DEFAULT 0,
  `linked` bigint(20) NOT NULL DEFAULT 0,
  `updated` bigint(20) NOT NULL DEFAULT 0,
  `deactivated` bigint(20) NOT NULL DEFAULT 0,
  `conflicts` bigint(20) NOT NULL DEFAULT 0,
  `failures` bigint(20) NOT NULL DEFAULT 0,
  `error` varchar(1024) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `ix_dir_sync` (`platform`,`started_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
