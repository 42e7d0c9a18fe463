-- Migration 6: survey anonymity: participation kept apart from answers (the anonymity data migration runs in Go after this file).
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `survey_participations` (`survey_id` integer,`employee_id` integer,`subject_id` integer,`status` text NOT NULL,PRIMARY KEY (`survey_id`,`employee_id`,`subject_id`)) WITHOUT ROWID;
