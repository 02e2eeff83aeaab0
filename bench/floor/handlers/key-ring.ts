export const handler = async (event: { RequestType: string }): Promise<string> => `key ring ${event.RequestType}`;
