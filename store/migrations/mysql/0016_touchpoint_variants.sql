-- Migration 16: touchpoint variants: a class touchpoint's A/B variants (copy, button, send time) and each person's recorded assignment.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `touchpoint_variants` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `touchpoint_id` bigint(20) unsigned NOT NULL,
  `name` varchar(8) NOT NULL,
  `weight` bigint(20) NOT NULL DEFAULT 1,
  `title` varchar(255) DEFAULT NULL,
  `body` text,
  `button` varchar(64) DEFAULT NULL,
  `timing` varchar(8) NOT NULL DEFAULT 'same',
  `offset` bigint(20) DEFAULT NULL,
  `best_from` bigint(20) DEFAULT NULL,
  `best_to` bigint(20) DEFAULT NULL,
  `run_at` datetime(3) DEFAULT NULL,
  `send_basis` text,
  `created_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ux_touchpoint_variant` (`touchpoint_id`,`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `touchpoint_assignments` (
  `touchpoint_id` bigint(20) unsigned NOT NULL,
  `employee_id` bigint(20) unsigned NOT NULL,
  `variant_id` bigint(20) unsigned NOT NULL,
  `assigned_at` datetime(3) NOT NULL,
  PRIMARY KEY (`touchpoint_id`,`employee_id`),
  KEY `idx_touchpoint_assignments_variant_id` (`variant_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

ALTER TABLE `touchpoints` ADD COLUMN `variants` bigint(20) NOT NULL DEFAULT 0;
