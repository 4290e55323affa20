-- description: Missing patches per instance and severity (severity empty: every severity)
-- param severity:
-- param account:
-- param region:
SELECT
  c.accountid,
  c.region,
  c.resourceid AS instance_id,
  c.severity,
  count(*) AS missing_patches
FROM aws_complianceitem c
WHERE c.resourcetype = 'ManagedInstanceInventory'
  AND (c.accountid = '${account}' OR '${account}' = '')
  AND (c.region = '${region}' OR '${region}' = '')
  AND c.compliancetype = 'Patch'
  AND c.status = 'NON_COMPLIANT'
  AND c.patchstate IN ('Missing', 'Failed')
  AND (upper(c.severity) = upper('${severity}') OR '${severity}' = '')
GROUP BY c.accountid, c.region, c.resourceid, c.severity
ORDER BY c.accountid, c.region, c.resourceid, c.severity
