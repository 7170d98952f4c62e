  return { dispatch };
})(globalThis.__host);
export const dispatch = api.dispatch;
