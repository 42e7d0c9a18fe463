-- Migration 11: webhooks: endpoints, the event outbox, deliveries and their attempts.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `webhook_endpoints` (`id` integer PRIMARY KEY AUTOINCREMENT,`url` text NOT NULL,`secret` text NOT NULL,`events` text NOT NULL,`enabled` numeric NOT NULL,`description` text,`created_by` text,`created_at` datetime,`updated_at` datetime);

CREATE TABLE `webhook_events` (`id` integer PRIMARY KEY AUTOINCREMENT,`type` text NOT NULL,`ref_id` integer NOT NULL,`occurred_at` datetime NOT NULL,`fanned_out` numeric NOT NULL DEFAULT false,`created_at` datetime);

CREATE INDEX `idx_webhook_events_fanned_out` ON `webhook_events`(`fanned_out`);

CREATE UNIQUE INDEX `ux_webhook_event` ON `webhook_events`(`type`,`ref_id`);

CREATE TABLE `webhook_deliveries` (`id` integer PRIMARY KEY AUTOINCREMENT,`endpoint_id` integer NOT NULL,`event_id` integer NOT NULL,`status` text NOT NULL,`next_attempt_at` datetime NOT NULL,`attempts` integer NOT NULL DEFAULT 0,`last_status` integer NOT NULL DEFAULT 0,`last_error` text,`delivered_at` datetime,`created_at` datetime,`updated_at` datetime);

CREATE INDEX `idx_webhook_deliveries_due` ON `webhook_deliveries`(`status`,`next_attempt_at`);

CREATE UNIQUE INDEX `ux_webhook_delivery` ON `webhook_deliveries`(`endpoint_id`,`event_id`);

CREATE TABLE `webhook_attempts` (`id` integer PRIMARY KEY AUTOINCREMENT,`delivery_id` integer NOT NULL,`endpoint_id` integer NOT NULL,`attempt` integer NOT NULL,`status_code` integer NOT NULL DEFAULT 0,`latency_ms` integer NOT NULL DEFAULT 0,`outcome` text NOT NULL,`error` text,`started_at` datetime NOT NULL);

CREATE INDEX `idx_webhook_attempts_endpoint_id` ON `webhook_attempts`(`endpoint_id`);

CREATE INDEX `idx_webhook_attempts_delivery_id` ON `webhook_attempts`(`delivery_id`);

