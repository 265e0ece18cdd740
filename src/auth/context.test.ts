import { buildContext, type ContextDeps } from "./context";

// buildContext never touches its deps until a viewer is asked for.
const deps = {} as ContextDeps;

describe("buildContext's client-gone signal", () => {
  it("is made only when read, through the copy of the context Apollo makes for each operation", () => {
    let made = 0;
    const controller = new AbortController();
    const context = buildContext(
      {
        requestId: "r1",
        clientAddress: "127.0.0.1",
        authorization: undefined,
        clientGone: () => {
          made += 1;
          return controller.signal;
        },
      },
      deps,
    );
    // What @apollo/server's cloneObject does with the context value of every operation.
    const copy = Object.assign(Object.create(Object.getPrototypeOf(context) as object) as typeof context, context);
    expect(made).toBe(0);
    expect(copy.requestId).toBe("r1");
    expect(copy.hasBearer).toBe(false);
    expect(copy.signal).toBe(controller.signal);
    expect(made).toBe(1);
    // Made once for the request: the context and its copies share it.
    expect(context.signal).toBe(controller.signal);
    expect(copy.signal).toBe(controller.signal);
    expect(made).toBe(1);
  });
});
