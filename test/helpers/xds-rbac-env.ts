// grpc-js-xds reads GRPC_XDS_EXPERIMENTAL_RBAC once, when it is first imported: test files that check
// AuthorizationPolicy import this module before anything that imports @grpc/grpc-js-xds.
process.env.GRPC_XDS_EXPERIMENTAL_RBAC = 'true';
