-- Where the buyer's address was, located once at intake by the API (geoip-lite's database
-- lives there, and the worker reads this column and loads no geo data). Orders from before it
-- have none: risk control treats their location as unknown, as for an address the database
-- cannot place.
ALTER TABLE "orders" ADD COLUMN     "buyer_geo" JSONB;
