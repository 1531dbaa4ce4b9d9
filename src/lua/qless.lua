redis.call('publish','ql:log',ARGV[1]); if ARGV[1]=='bad' then error('Put(): boom') end; return ARGV[2]
