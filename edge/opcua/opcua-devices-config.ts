/** OPC UA devices the gateway subscribes to (`opcua.devices` in the config). Stub: filled by the OPC UA device driver. */
import { Type } from 'typebox';

export const OpcuaDeviceListSchema = Type.Array(Type.Object({ id: Type.String() }), {
  maxItems: 500,
  description: 'OPC UA devices subscribed to (refrigerated cases, shelf controllers)',
});
