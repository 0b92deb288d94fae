// The user image fixture lives beside the VM rack, which `serve --vms` offers as a sample.
export { buildUserImage, type UserImage } from "../../src/adapters/vm/user-image.ts"
