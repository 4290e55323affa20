-- description: Managed instances per account, region, Workload tag and platform
-- param account:
-- param region:
SELECT
  i.accountid,
  i.region,
  coalesce(t.value, '(untagged)') AS workload,
  i.platformtype,
  i.platformname,
  count(*) AS instances
FROM aws_instanceinformation i
LEFT JOIN aws_tag t
  ON t.resourcetype = 'ManagedInstanceInventory'
  AND t.accountid = i.accountid
  AND t.region = i.region
  AND t.resourceid = i.resourceid
  AND t.key = 'Workload'
  AND (t.accountid = '${account}' OR '${account}' = '')
  AND (t.region = '${region}' OR '${region}' = '')
WHERE i.resourcetype = 'ManagedInstanceInventory'
  AND (i.accountid = '${account}' OR '${account}' = '')
  AND (i.region = '${region}' OR '${region}' = '')
  AND coalesce(i.instancestatus, '') <> 'Terminated'
GROUP BY i.accountid, i.region, coalesce(t.value, '(untagged)'), i.platformtype, i.platformname
ORDER BY i.accountid, i.region, workload, i.platformtype, i.platformname
