// OpenAPI 3.1 description of the demo API, served at GET /openapi.json. Kept apart from the server
// so the route table and the document are easy to compare.

const validationError = {
  description: 'Validation Error',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/HTTPValidationError' } } },
}

function queryParam(name: string, description: string): Record<string, unknown> {
  return { name, in: 'query', required: true, description, schema: { type: 'string', title: name } }
}

function jsonResponse(description: string, schema: Record<string, unknown>): Record<string, unknown> {
  return { description, content: { 'application/json': { schema } } }
}

function htmlResponse(description: string): Record<string, unknown> {
  return { description, content: { 'text/html': { schema: { type: 'string' } } } }
}

function textResponse(description: string): Record<string, unknown> {
  return { description, content: { 'text/plain': { schema: { type: 'string' } } } }
}

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Drawbridge demo API',
    version: '0.1.0',
    description: 'A deliberately vulnerable API reproducing the FastAPI security checklist. ' + 'Never expose it directly: run it behind Drawbridge.',
  },
  paths: {
    '/users': {
      get: {
        summary: 'Find users by name (SQL built by string concatenation)',
        operationId: 'find_users',
        parameters: [queryParam('name', 'Exact user name')],
        responses: {
          '200': jsonResponse('Matching users', {
            type: 'array',
            items: { $ref: '#/components/schemas/User' },
          }),
          '422': validationError,
          '500': textResponse('SQL error with the stack trace (leaked on purpose)'),
        },
      },
    },
    '/comments': {
      get: {
        summary: 'List comments',
        operationId: 'list_comments',
        responses: {
          '200': jsonResponse('Stored comments', {
            type: 'array',
            items: { $ref: '#/components/schemas/Comment' },
          }),
        },
      },
      post: {
        summary: 'Store a comment (no sanitising)',
        operationId: 'create_comment',
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: { $ref: '#/components/schemas/CommentIn' } },
          },
        },
        responses: {
          '201': jsonResponse('Stored comment', { $ref: '#/components/schemas/Comment' }),
          '413': jsonResponse('Body larger than 64 KiB', { $ref: '#/components/schemas/Detail' }),
          '422': validationError,
        },
      },
    },
    '/comments/page': {
      get: {
        summary: 'Render comments as HTML without escaping (stored XSS)',
        operationId: 'comments_page',
        responses: { '200': htmlResponse('HTML page') },
      },
    },
    '/files': {
      get: {
        summary: 'Download a file from the demo folder (naive path join)',
        operationId: 'download_file',
        parameters: [queryParam('name', 'File name inside the demo folder')],
        responses: {
          '200': {
            description: 'The file content, or a JSON note naming the path a naive app would have read',
            content: {
              'text/plain': { schema: { type: 'string' } },
              'application/json': { schema: { $ref: '#/components/schemas/WouldRead' } },
            },
          },
          '404': jsonResponse('No such file', { $ref: '#/components/schemas/Detail' }),
          '422': validationError,
        },
      },
    },
    '/ping': {
      get: {
        summary: 'Show the shell command a naive app would run (never executed)',
        operationId: 'ping_host',
        parameters: [queryParam('host', 'Host to ping')],
        responses: {
          '200': jsonResponse('The command', { $ref: '#/components/schemas/PingCommand' }),
          '422': validationError,
        },
      },
    },
    '/login': {
      post: {
        summary: 'Log in with a plaintext password (JSON or OAuth2 password form)',
        operationId: 'login',
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: { $ref: '#/components/schemas/LoginIn' } },
            'application/x-www-form-urlencoded': {
              schema: { $ref: '#/components/schemas/LoginIn' },
            },
          },
        },
        responses: {
          '200': {
            ...jsonResponse('Token; also sets the session and theme cookies', {
              $ref: '#/components/schemas/Token',
            }),
            headers: {
              'Set-Cookie': {
                description: 'session=<random>; Path=/ (no Secure, HttpOnly or SameSite)',
                schema: { type: 'string' },
              },
            },
          },
          '401': jsonResponse('Wrong credentials', { $ref: '#/components/schemas/Detail' }),
          '422': validationError,
        },
      },
    },
    '/debug/crash': {
      get: {
        summary: 'Fail with a Node stack trace in the body',
        operationId: 'debug_crash',
        responses: { '500': textResponse('Stack trace') },
      },
    },
    '/debug/headers': {
      get: {
        summary: 'Echo the request headers the app received',
        operationId: 'debug_headers',
        responses: {
          '200': jsonResponse('Request headers', {
            type: 'object',
            additionalProperties: { type: 'string' },
          }),
        },
      },
    },
    '/health': {
      get: {
        summary: 'Liveness check',
        operationId: 'health',
        responses: {
          '200': jsonResponse('OK', {
            type: 'object',
            properties: { status: { type: 'string', const: 'ok' } },
            required: ['status'],
          }),
        },
      },
    },
    '/docs': {
      get: {
        summary: 'Swagger UI',
        operationId: 'docs',
        responses: { '200': htmlResponse('HTML') },
      },
    },
    '/docs/oauth2-redirect': {
      get: {
        summary: 'Swagger UI OAuth2 redirect',
        operationId: 'docs_oauth2_redirect',
        responses: { '200': htmlResponse('HTML') },
      },
    },
    '/redoc': {
      get: { summary: 'ReDoc', operationId: 'redoc', responses: { '200': htmlResponse('HTML') } },
    },
    '/openapi.json': {
      get: {
        summary: 'This document',
        operationId: 'openapi',
        responses: { '200': jsonResponse('OpenAPI document', { type: 'object' }) },
      },
    },
  },
  components: {
    schemas: {
      User: {
        type: 'object',
        title: 'User',
        properties: {
          id: { type: 'integer' },
          name: { type: 'string' },
          email: { type: 'string' },
          role: { type: 'string' },
        },
        required: ['id', 'name', 'email', 'role'],
      },
      CommentIn: {
        type: 'object',
        title: 'CommentIn',
        properties: { text: { type: 'string', title: 'Text' } },
        required: ['text'],
      },
      Comment: {
        type: 'object',
        title: 'Comment',
        properties: { id: { type: 'integer' }, text: { type: 'string' } },
        required: ['id', 'text'],
      },
      WouldRead: {
        type: 'object',
        title: 'WouldRead',
        properties: { would_read: { type: 'string' }, note: { type: 'string' } },
        required: ['would_read', 'note'],
      },
      PingCommand: {
        type: 'object',
        title: 'PingCommand',
        properties: { command: { type: 'string' }, note: { type: 'string' } },
        required: ['command', 'note'],
      },
      LoginIn: {
        type: 'object',
        title: 'LoginIn',
        properties: { username: { type: 'string' }, password: { type: 'string' } },
        required: ['username', 'password'],
      },
      Token: {
        type: 'object',
        title: 'Token',
        properties: {
          access_token: { type: 'string' },
          token_type: { type: 'string', const: 'bearer' },
        },
        required: ['access_token', 'token_type'],
      },
      Detail: {
        type: 'object',
        title: 'Detail',
        properties: { detail: { type: 'string' } },
        required: ['detail'],
      },
      ValidationError: {
        type: 'object',
        title: 'ValidationError',
        properties: {
          loc: { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'integer' }] } },
          msg: { type: 'string' },
          type: { type: 'string' },
        },
        required: ['loc', 'msg', 'type'],
      },
      HTTPValidationError: {
        type: 'object',
        title: 'HTTPValidationError',
        properties: {
          detail: { type: 'array', items: { $ref: '#/components/schemas/ValidationError' } },
        },
      },
    },
    securitySchemes: {
      OAuth2PasswordBearer: {
        type: 'oauth2',
        flows: { password: { tokenUrl: 'login', scopes: {} } },
      },
    },
  },
} as const
