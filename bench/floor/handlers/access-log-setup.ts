export const handler = async (event: { RequestType: string }): Promise<string> => `access logs ${event.RequestType}`;
