// The iSCSI BlockWriter adapter (userspace libiscsi through qemu-img/qemu-io).
export { iscsiBlockWriter, iscsiBlockWriterLayer, type IscsiBlockWriterOptions } from "./iscsi-block-writer.ts"
export { targetName, targetProblem } from "./qemu-iscsi-disk.ts"
