'use strict';
/**
 * A NestJS 11 app on @nestjs/platform-express, written as tsc emits a
 * decorated TypeScript source in CommonJS (`importHelpers` and
 * `emitDecoratorMetadata`: tslib's __decorate, __param and __metadata), so
 * it runs on Node 24 with no build step. The controller receives its service
 * by dependency injection, which Nest resolves from the `design:paramtypes`
 * metadata that reflect-metadata keeps. Prints `listening <port>`.
 *
 * The TypeScript it stands for:
 *
 *   @Injectable() export class UsersService { ... }
 *   @Injectable() export class ServedBy implements NestMiddleware { async use(req, res, next) { ... } }
 *   @Controller('users') export class UsersController {
 *     constructor(private readonly users: UsersService) {}
 *     @Get(':id') find(@Param('id', ParseIntPipe) id: number) { ... }
 *     @Post() @HttpCode(201) create(@Body() body: unknown, @Res({ passthrough: true }) res: Response) { ... }
 *     ...
 *   }
 *   @Module({ controllers: [...], providers: [UsersService] }) export class AppModule implements NestModule { ... }
 */

Object.defineProperty(exports, '__esModule', { value: true });
exports.AppModule =
  exports.UsersController =
  exports.HealthController =
  exports.ServedBy =
  exports.UsersService =
    void 0;
const tslib_1 = require('tslib');
require('reflect-metadata');
const common_1 = require('@nestjs/common');
const core_1 = require('@nestjs/core');
const store_1 = require('./store.cjs');

let UsersService = class UsersService {
  store = new store_1.UserStore();
  async list() {
    return this.store.list();
  }
  async find(id) {
    try {
      return await this.store.get(id);
    } catch (err) {
      if (err instanceof store_1.NotFound) throw new common_1.NotFoundException(err.message);
      throw err;
    }
  }
  async create(body) {
    try {
      return await this.store.create(body);
    } catch (err) {
      throw new common_1.UnprocessableEntityException(err.message);
    }
  }
  async remove(id) {
    await this.find(id);
    await this.store.remove(id);
  }
};
exports.UsersService = UsersService;
exports.UsersService = UsersService = tslib_1.__decorate([(0, common_1.Injectable)()], UsersService);

let ServedBy = class ServedBy {
  async use(req, res, next) {
    await (0, store_1.tick)();
    res.setHeader('x-served-by', 'nest');
    if (req.headers['x-request-id']) res.setHeader('x-request-id', req.headers['x-request-id']);
    next();
  }
};
exports.ServedBy = ServedBy;
exports.ServedBy = ServedBy = tslib_1.__decorate([(0, common_1.Injectable)()], ServedBy);

let HealthController = class HealthController {
  health() {
    return { status: 'ok' };
  }
  headers(requestId, accept, custom) {
    return { requestId: requestId ?? null, accept: accept ?? null, custom: custom ?? null };
  }
  async boom() {
    return (0, store_1.explode)();
  }
};
exports.HealthController = HealthController;
tslib_1.__decorate(
  [
    (0, common_1.Get)('health'),
    tslib_1.__metadata('design:type', Function),
    tslib_1.__metadata('design:paramtypes', []),
    tslib_1.__metadata('design:returntype', void 0),
  ],
  HealthController.prototype,
  'health',
  null,
);
tslib_1.__decorate(
  [
    (0, common_1.Get)('headers'),
    tslib_1.__param(0, (0, common_1.Headers)('x-request-id')),
    tslib_1.__param(1, (0, common_1.Headers)('accept')),
    tslib_1.__param(2, (0, common_1.Headers)('x-custom')),
    tslib_1.__metadata('design:type', Function),
    tslib_1.__metadata('design:paramtypes', [String, String, String]),
    tslib_1.__metadata('design:returntype', void 0),
  ],
  HealthController.prototype,
  'headers',
  null,
);
tslib_1.__decorate(
  [
    (0, common_1.Get)('boom'),
    tslib_1.__metadata('design:type', Function),
    tslib_1.__metadata('design:paramtypes', []),
    tslib_1.__metadata('design:returntype', Promise),
  ],
  HealthController.prototype,
  'boom',
  null,
);
exports.HealthController = HealthController = tslib_1.__decorate([(0, common_1.Controller)()], HealthController);

let UsersController = class UsersController {
  users;
  constructor(users) {
    this.users = users;
  }
  list() {
    return this.users.list();
  }
  async find(id) {
    return this.users.find(id);
  }
  async create(body, res) {
    const user = await this.users.create(body);
    res.setHeader('location', `/users/${user.id}`);
    return user;
  }
  async remove(id) {
    await this.users.remove(id);
  }
};
exports.UsersController = UsersController;
tslib_1.__decorate(
  [
    (0, common_1.Get)(),
    tslib_1.__metadata('design:type', Function),
    tslib_1.__metadata('design:paramtypes', []),
    tslib_1.__metadata('design:returntype', void 0),
  ],
  UsersController.prototype,
  'list',
  null,
);
tslib_1.__decorate(
  [
    (0, common_1.Get)(':id'),
    tslib_1.__param(0, (0, common_1.Param)('id', common_1.ParseIntPipe)),
    tslib_1.__metadata('design:type', Function),
    tslib_1.__metadata('design:paramtypes', [Number]),
    tslib_1.__metadata('design:returntype', Promise),
  ],
  UsersController.prototype,
  'find',
  null,
);
tslib_1.__decorate(
  [
    (0, common_1.Post)(),
    (0, common_1.HttpCode)(201),
    tslib_1.__param(0, (0, common_1.Body)()),
    tslib_1.__param(1, (0, common_1.Res)({ passthrough: true })),
    tslib_1.__metadata('design:type', Function),
    tslib_1.__metadata('design:paramtypes', [Object, Object]),
    tslib_1.__metadata('design:returntype', Promise),
  ],
  UsersController.prototype,
  'create',
  null,
);
tslib_1.__decorate(
  [
    (0, common_1.Delete)(':id'),
    (0, common_1.HttpCode)(204),
    tslib_1.__param(0, (0, common_1.Param)('id', common_1.ParseIntPipe)),
    tslib_1.__metadata('design:type', Function),
    tslib_1.__metadata('design:paramtypes', [Number]),
    tslib_1.__metadata('design:returntype', Promise),
  ],
  UsersController.prototype,
  'remove',
  null,
);
exports.UsersController = UsersController = tslib_1.__decorate(
  [(0, common_1.Controller)('users'), tslib_1.__metadata('design:paramtypes', [UsersService])],
  UsersController,
);

let AppModule = class AppModule {
  configure(consumer) {
    consumer.apply(ServedBy).forRoutes(HealthController, UsersController);
  }
};
exports.AppModule = AppModule;
exports.AppModule = AppModule = tslib_1.__decorate(
  [(0, common_1.Module)({ controllers: [HealthController, UsersController], providers: [UsersService] })],
  AppModule,
);

async function bootstrap() {
  // Errors only: Nest's start-up lines carry timestamps and the pid.
  const app = await core_1.NestFactory.create(AppModule, { logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  console.log(`listening ${app.getHttpServer().address().port}`);
}
bootstrap();
