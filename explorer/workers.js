// Monaco (GraphiQL's editor) runs its language services in web workers; they are bundled beside
// the page, so it loads them from the server instead of a CDN. Imported first: Monaco reads this
// when it starts.
globalThis.MonacoEnvironment = {
  getWorker(_workerId, label) {
    const name = label === "json" || label === "graphql" ? label : "editor";
    return new Worker(`/graphiql/${name}.worker.js`);
  },
};
