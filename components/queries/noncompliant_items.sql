-- description: Non-compliant items of any compliance type (compliance_type is a LIKE pattern: Association, Patch, Custom:%)
-- param compliance_type: %
-- param account:
-- param region:
SELECT
  c.accountid,
  c.region,
  c.resourceid AS instance_id,
  c.compliancetype,
  c.id AS item_id,
  c.title,
  c.severity,
  c.executiontime
FROM aws_complianceitem c
WHERE c.resourcetype = 'ManagedInstanceInventory'
  AND (c.accountid = '${account}' OR '${account}' = '')
  AND (c.region = '${region}' OR '${region}' = '')
  AND c.status = 'NON_COMPLIANT'
  AND c.compliancetype LIKE '${compliance_type}'
ORDER BY c.accountid, c.region, c.resourceid, c.compliancetype, c.id
