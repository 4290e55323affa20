-- description: Instances whose inventory is older than hours (the sync keeps a stopped or lost instance's last file)
-- param hours: 24
-- param account:
-- param region:
SELECT
  i.accountid,
  i.region,
  i.resourceid AS instance_id,
  i.computername,
  i.capturetime,
  date_diff('hour', from_iso8601_timestamp(i.capturetime), current_timestamp) AS age_hours
FROM aws_instanceinformation i
WHERE i.resourcetype = 'ManagedInstanceInventory'
  AND (i.accountid = '${account}' OR '${account}' = '')
  AND (i.region = '${region}' OR '${region}' = '')
  AND coalesce(i.instancestatus, '') <> 'Terminated'
  AND from_iso8601_timestamp(i.capturetime) < current_timestamp - INTERVAL '${hours}' HOUR
ORDER BY i.accountid, i.region, i.resourceid
