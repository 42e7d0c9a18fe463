-- Migration 11: webhooks: endpoints, the event outbox, deliveries and their attempts.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `webhook_endpoints` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `url` varchar(1024) NOT NULL,
  `secret` varchar(255) NOT NULL,
  `events` varchar(255) NOT NULL,
  `enabled` tinyint(1) NOT NULL,
  `description` varchar(255) DEFAULT NULL,
  `created_by` varchar(128) DEFAULT NULL,
  `created_at` datetime(3) DEFAULT NULL,
  `updated_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `webhook_events` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `type` varchar(32) NOT NULL,
  `ref_id` bigint(20) unsigned NOT NULL,
  `occurred_at` datetime(3) NOT NULL,
  `fanned_out` tinyint(1) NOT NULL DEFAULT 0,
  `created_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ux_webhook_event` (`type`,`ref_id`),
  KEY `idx_webhook_events_fanned_out` (`fanned_out`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `webhook_deliveries` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `endpoint_id` bigint(20) unsigned NOT NULL,
  `event_id` bigint(20) unsigned NOT NULL,
  `status` varchar(16) NOT NULL,
  `next_attempt_at` datetime(3) NOT NULL,
  `attempts` bigint(20) NOT NULL DEFAULT 0,
  `last_status` bigint(20) NOT NULL DEFAULT 0,
  `last_error` varchar(1000) DEFAULT NULL,
  `delivered_at` datetime(3) DEFAULT NULL,
  `created_at` datetime(3) DEFAULT NULL,
  `updated_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ux_webhook_delivery` (`endpoint_id`,`event_id`),
  KEY `idx_webhook_deliveries_due` (`status`,`next_attempt_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `webhook_attempts` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `delivery_id` bigint(20) unsigned NOT NULL,
  `endpoint_id` bigint(20) unsigned NOT NULL,
  `attempt` bigint(20) NOT NULL,
  `status_code` bigint(20) NOT NULL DEFAULT 0,
  `latency_ms` bigint(20) NOT NULL DEFAULT 0,
  `outcome` varchar(16) NOT NULL,
  `error` varchar(1000) DEFAULT NULL,
  `started_at` datetime(3) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `idx_webhook_attempts_delivery_id` (`delivery_id`),
  KEY `idx_webhook_attempts_endpoint_id` (`endpoint_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
