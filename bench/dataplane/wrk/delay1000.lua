-- The seed's model: each connection sleeps 1 s AFTER each response (sleep-after-call),
-- so its period is 1 s + response time + scheduling delay and it drifts.
function delay()
   return 1000
end
