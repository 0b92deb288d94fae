// The API microversion that introduced each node field (Ironic's VERSIONED_FIELDS); a field not
// listed exists since 1.1. One table for what a document shows, what ?fields= may name and which
// PATCH paths a request may touch at its version.
export const fieldIntroducedIn: Readonly<Record<string, number>> = {
  driver_internal_info: 3, name: 5, inspection_started_at: 6, inspection_finished_at: 6, clean_step: 7,
  raid_config: 12, target_raid_config: 12, network_interface: 20, resource_class: 21,
  boot_interface: 31, console_interface: 31, deploy_interface: 31, inspect_interface: 31,
  management_interface: 31, power_interface: 31, raid_interface: 31, vendor_interface: 31,
  storage_interface: 33, traits: 37, rescue_interface: 38, bios_interface: 40, fault: 42, deploy_step: 44,
  conductor_group: 46, automated_clean: 47, protected: 48, protected_reason: 48, conductor: 49, owner: 50,
  description: 51, allocation_uuid: 52, retired: 61, retired_reason: 61, lessee: 65, network_data: 66,
  firmware_interface: 86,
  boot_mode: 75, secure_boot: 76,
}

export const fieldVisibleAt = (field: string, version: number): boolean => (fieldIntroducedIn[field] ?? 1) <= version

/** GET /v1/nodes query parameters and the version each arrived in (Ironic's check_allow_* helpers). */
export const nodeFilterIntroducedIn: Readonly<Record<string, number>> = {
  instance_uuid: 1, associated: 1, maintenance: 1, chassis_uuid: 1, limit: 1, marker: 1,
  fields: 8, provision_state: 9, driver: 16, resource_class: 21, detail: 43, fault: 42, conductor_group: 46,
  conductor: 49, owner: 50, description_contains: 51, retired: 61, lessee: 65,
}
