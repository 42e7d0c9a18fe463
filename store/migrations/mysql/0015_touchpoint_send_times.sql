-- Migration 15: touchpoint best-time windows: a class touchpoint may send at the learned best hour of a window relative to its anchor; the choice and its basis are stored.
-- Frozen: never edit an applied migration; add a new file instead.

ALTER TABLE `touchpoints` ADD COLUMN `best_from` bigint(20) DEFAULT NULL;

ALTER TABLE `touchpoints` ADD COLUMN `best_to` bigint(20) DEFAULT NULL;

ALTER TABLE `touchpoints` ADD COLUMN `send_basis` text;
