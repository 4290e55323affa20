-- description: Instances by application and version (application is a LIKE pattern, e.g. openssl%)
-- param application: %
-- param account:
-- param region:
SELECT
  a.name AS application,
  a.version,
  count(DISTINCT a.accountid || '/' || a.resourceid) AS instances
FROM aws_application a
WHERE a.resourcetype = 'ManagedInstanceInventory'
  AND (a.accountid = '${account}' OR '${account}' = '')
  AND (a.region = '${region}' OR '${region}' = '')
  AND a.name LIKE '${application}'
GROUP BY a.name, a.version
ORDER BY a.name, a.version
