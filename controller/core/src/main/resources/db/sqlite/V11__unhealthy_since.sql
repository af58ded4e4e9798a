-- When each app on each host turned unhealthy (its first unhealthy periodic report after a healthy
-- one); 0 while healthy or not reported. What 'rackroll status', 'rackroll agents' and the
-- rackroll_apps_unhealthy metric show.
ALTER TABLE agent_apps ADD COLUMN unhealthy_since BIGINT NOT NULL DEFAULT 0;
