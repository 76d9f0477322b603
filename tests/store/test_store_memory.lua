-- The store suite on the in-process store.
require "store_suite"("memory")
