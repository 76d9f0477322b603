-- Helper: does not compile.
local skynet = require "skynet"
this is not lua
