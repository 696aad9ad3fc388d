export { Herald, type HeraldOptions, type HeraldEvents, type ConnectionState } from './herald';
export {
  Subscription,
  type SubscriptionState,
  type SubscriptionEvents,
  type SubscribeOptions,
  type SubscribedEvent,
} from './subscription';
export {
  webSocketTransport,
  wxTransport,
  uniTransport,
  browserNetwork,
  type NetworkWatcher,
  type NetworkStatus,
  type Transport,
  type TransportHandlers,
  type TransportConnection,
  type WebSocketConstructor,
  type WebSocketLike,
  type SocketTask,
  type ConnectSocketApi,
} from './transport';
export * from './protocol';
export { Emitter, type Listener } from './emitter';
