-- wrk script: cycle through a few demo searches on /api/v1/catalog/search.
-- Each connection starts at a different query so the mix is the same at any concurrency.
local queries = {
  "%E4%B8%89%E4%BD%93",          -- 三体
  "%E5%9B%B4%E5%9F%8E",          -- 围城
  "santi",                       -- pinyin
  "%E4%B8%9C%E9%87%8E%E5%9C%AD%E5%90%BE", -- 东野圭吾
  "9787536692930",               -- an ISBN
  "%E5%8E%86%E5%8F%B2",          -- 历史
}
local counter = 0

function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
end

function init(args)
  n = offset or 0
end

function request()
  n = n + 1
  local q = queries[(n % #queries) + 1]
  return wrk.format("GET", "/api/v1/catalog/search?q=" .. q)
end
