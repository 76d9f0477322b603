-- The store suite on Redis.
require "store_suite"("redis")
