-- Migration 9: campaigns: campaigns, variants, assignments, conversions; clicks by employee and time.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `campaign_assignments` (`campaign_id` integer,`employee_id` integer,`variant_id` integer NOT NULL,`assigned_at` datetime NOT NULL,PRIMARY KEY (`campaign_id`,`employee_id`));

CREATE TABLE `campaign_variants` (`id` integer PRIMARY KEY AUTOINCREMENT,`campaign_id` integer NOT NULL,`name` text NOT NULL,`weight` integer NOT NULL DEFAULT 1,`title` text,`body` text,`buttons` text,`at` datetime,`cron_spec` text,`touchpoint_id` integer NOT NULL,`created_at` datetime);

CREATE TABLE `campaigns` (`id` integer PRIMARY KEY AUTOINCREMENT,`name` text NOT NULL,`title` text NOT NULL,`body` text,`image_url` text,`buttons` text,`audience` text,`schedule` text NOT NULL,`at` datetime,`cron_spec` text,`time_zone` text NOT NULL,`locale` text NOT NULL,`event` text NOT NULL,`min_sample` integer NOT NULL DEFAULT 100,`min_group_size` integer NOT NULL DEFAULT 5,`session_id` integer NOT NULL,`status` text NOT NULL DEFAULT "scheduled",`created_by` text,`created_at` datetime,`updated_at` datetime);

CREATE TABLE `conversions` (`id` integer PRIMARY KEY AUTOINCREMENT,`event_id` text NOT NULL,`employee_id` integer NOT NULL,`event` text NOT NULL,`occurred_at` datetime NOT NULL,`source` text NOT NULL,`delivery_id` integer NOT NULL DEFAULT 0,`touchpoint_id` integer NOT NULL DEFAULT 0,`campaign_id` integer NOT NULL DEFAULT 0,`variant_id` integer NOT NULL DEFAULT 0,`clicked_at` datetime,`window_seconds` integer NOT NULL,`created_at` datetime);

CREATE INDEX `idx_campaign_assignments_variant_id` ON `campaign_assignments`(`variant_id`);

CREATE UNIQUE INDEX `idx_campaign_variants_touchpoint_id` ON `campaign_variants`(`touchpoint_id`);

CREATE INDEX `idx_campaigns_event` ON `campaigns`(`event`);

CREATE UNIQUE INDEX `idx_campaigns_session_id` ON `campaigns`(`session_id`);

CREATE INDEX `idx_conversions_campaign_id` ON `conversions`(`campaign_id`);

CREATE UNIQUE INDEX `idx_conversions_event_id` ON `conversions`(`event_id`);

CREATE INDEX `idx_conversions_touchpoint_id` ON `conversions`(`touchpoint_id`);

CREATE INDEX `ix_clicks_employee_time` ON `clicks`(`employee_id`,`clicked_at`);

CREATE INDEX `ix_conversion_employee` ON `conversions`(`employee_id`,`event`);

CREATE INDEX `ix_conversion_event` ON `conversions`(`event`,`occurred_at`);

CREATE UNIQUE INDEX `ux_campaign_variant` ON `campaign_variants`(`campaign_id`,`name`);
