/** 50 JSONEachRow rows, ids 3000–3049: what LZ4_CLI_FRAME holds. */
export const LZ4_ROWS = Array.from(
  { length: 50 },
  (_, i) => `{"id":${3000 + i},"customer":"lz4-cli","at":"2026-05-06 07:08:09.010","cost":${i}}\n`,
).join('');
/** LZ4_ROWS as the reference lz4 command-line tool (v1.9.4, `lz4 -c`) frames it: an encoder other than ours. */
export const LZ4_CLI_FRAME = Buffer.from(
  'BCJNGGRApwgCAAD1OnsiaWQiOjMwMDAsImN1c3RvbWVyIjoibHo0LWNsaSIsImF0IjoiMjAyNi0wNS0wNiAwNzowODowOS4wMTAiLCJjb3N0IjowfQpJAB8xSQApFzFJAB8ySQApFzJJAB8zSQApFzNJAB80SQApFzRJAB81SQApFzVJAB82SQApFzZJAB83SQApFzdJAB84SQApFzhJAB85SQApFjlJAB8x2gIqFzHbAh8x2wIrB9wCHzHcAioXMd0CHzHdAioXMd4CHzHeAioXMd8CHzHfAioXMeACHzHgAioXMeECHzHhAioXMeICHzHiAioXMeMCHzHjAioXMeQCHzLkAiomMjAuAx8y5AIqFzLkAh8y5AIqFzLkAh8y5AIqFzLkAh8y5AIqFzLkAh8y5AIqFzLkAh8y5AIqFzLkAh8y5AIqFzLkAh8y5AIqFzLkAh8y5AIqFzLkAh8z5AIqFzPkAh8z5AIqFzPkAh8z5AIqFzPkAh8z5AIqFzPkAh8z5AIqFzPkAh8z5AIqFzPkAh8z5AIqFzPkAh8z5AIqFzPkAh8z5AIqFzPkAh8z5AIqFzPkAh805AIqFzTkAh805AIqFzTkAh805AIqFzTkAh805AIqFzTkAh805AIqFzTkAh805AIqFzTkAh805AIqFzTkAh805AIqFzTkAh805AIqFzTkAh805AIpUDo0OX0KAAAAACQrFH4=',
  'base64',
);
