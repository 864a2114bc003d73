export * from './billing-period';
export * from './imagine';
export * from './webhook-delivery';
export * from './image-retention';
