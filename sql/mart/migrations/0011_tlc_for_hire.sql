-- The TLC's figures for the for-hire half, and its farebox as it counts it.
--
-- Other FHV: the mart's 'fhv' service (every trip of the fhv files) is what the TLC's report
-- splits into three licence classes. The mart sets it beside their sum, under a class of its
-- own; which report classes make that sum is declared here, once.
INSERT INTO mart.ref_licence_class VALUES ('fhv', 'FHV - Other') ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS mart.ref_licence_class_part (
    report_class   text PRIMARY KEY,  -- as data_reports_monthly.csv names it
    licence_class  text NOT NULL      -- the class of ref_licence_class it is summed into
);
INSERT INTO mart.ref_licence_class_part VALUES
    ('FHV - Black Car', 'FHV - Other'), ('FHV - Livery', 'FHV - Other'), ('FHV - Lux Limo', 'FHV - Other')
ON CONFLICT DO NOTHING;

-- The TLC's "Farebox Per Day" is total_amount less the tips of card-paid trips
-- (payment_type 1), not less every tip: a tip recorded on a trip of another or no payment
-- type stays in its farebox (measured on the real green 2022-03 and 2023-12 to 0.001 %;
-- sql/mart/README.md, "The TLC's farebox"). The tips of card trips of the month on the TLC's
-- definition, written by insertion.sql from this release on; NULL for months built before
-- (rebuild them) and for the for-hire kinds, whose rows record no payment type.
ALTER TABLE mart.agg_month_recorded ADD COLUMN IF NOT EXISTS card_tip_amount_sum numeric;
