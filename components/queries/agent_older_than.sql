-- description: Instances whose SSM Agent is older than min_version (compared part by part, not as text)
-- param min_version: 3.3.0.0
-- param account:
-- param region:
SELECT
  i.accountid,
  i.region,
  i.resourceid AS instance_id,
  i.computername,
  i.platformname,
  i.agentversion
FROM aws_instanceinformation i
WHERE i.resourcetype = 'ManagedInstanceInventory'
  AND (i.accountid = '${account}' OR '${account}' = '')
  AND (i.region = '${region}' OR '${region}' = '')
  AND coalesce(i.instancestatus, '') <> 'Terminated'
  AND lpad(coalesce(split_part(i.agentversion, '.', 1), ''), 6, '0')
    || lpad(coalesce(split_part(i.agentversion, '.', 2), ''), 6, '0')
    || lpad(coalesce(split_part(i.agentversion, '.', 3), ''), 6, '0')
    || lpad(coalesce(split_part(i.agentversion, '.', 4), ''), 6, '0')
    < lpad(coalesce(split_part('${min_version}', '.', 1), ''), 6, '0')
    || lpad(coalesce(split_part('${min_version}', '.', 2), ''), 6, '0')
    || lpad(coalesce(split_part('${min_version}', '.', 3), ''), 6, '0')
    || lpad(coalesce(split_part('${min_version}', '.', 4), ''), 6, '0')
ORDER BY i.accountid, i.region, i.resourceid
