export * from './billing-period';
export * from './imagine';
export * from './webhook-delivery';
