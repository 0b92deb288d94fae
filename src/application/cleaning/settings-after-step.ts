// Which finished hardware steps change what the BMC reports of BIOS settings or firmware versions:
// the reboot that follows a BIOS or firmware cleaning step (`<op>:clean-step:<i>:bios.<name>:reboot`).
// Pending BIOS settings and staged firmware take effect at that reboot, so the conductor reads the
// BMC then (readHardwareSettings) and records what it reports, as Ironic caches BIOS settings after
// its BIOS steps. A step without a reboot changes nothing the BMC reports yet.
// A deploy step's reboot (`<op>:deploy-step:<i>:bios.<name>:reboot`) likewise.
const AFTER_SETTINGS_REBOOT = /:(clean|deploy)-step:\d+:(bios|firmware)\.[A-Za-z0-9_]+:reboot$/

export const changesReportedSettings = (step: string): boolean => AFTER_SETTINGS_REBOOT.test(step)
