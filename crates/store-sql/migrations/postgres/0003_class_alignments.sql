-- Badgery's store, version 3: the frameworks a badge class aligns to (JSON array of
-- badgery_backend::Alignment; NULL for none, as every class stored before has).
ALTER TABLE badgery_classes ADD COLUMN alignments TEXT;
