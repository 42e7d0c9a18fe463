-- Migration 17: clicks: one (touchpoint_id, delivery_id) index instead of one on each column.
-- Frozen: never edit an applied migration; add a new file instead.
-- Every query by delivery also names the delivery's touchpoint, so the pair
-- serves both; each click INSERT then updates two secondary indexes, not three.
-- One statement: MySQL applies it whole or not at all.

ALTER TABLE `clicks`
  ADD INDEX `ix_clicks_touchpoint_delivery` (`touchpoint_id`,`delivery_id`),
  DROP INDEX `idx_clicks_delivery_id`,
  DROP INDEX `idx_clicks_touchpoint_id`;
