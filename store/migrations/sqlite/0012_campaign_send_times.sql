-- Migration 12: campaign_send_times: learned send times of campaign variants; a "best" campaign schedule's window.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `campaign_send_times` (`variant_id` integer,`campaign_id` integer NOT NULL,`window_from` datetime NOT NULL,`window_to` datetime NOT NULL,`fallback_at` datetime NOT NULL,`chosen_at` datetime NOT NULL,`learned` numeric NOT NULL DEFAULT false,`basis` text,`created_at` datetime,PRIMARY KEY (`variant_id`));

CREATE INDEX `idx_campaign_send_times_campaign_id` ON `campaign_send_times`(`campaign_id`);

ALTER TABLE `campaigns` ADD COLUMN `window_from` datetime;

ALTER TABLE `campaigns` ADD COLUMN `window_to` datetime;
